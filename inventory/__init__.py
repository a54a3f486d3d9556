"""Stock, warranty and price: the stock ledger, reservations, assets and the money rules."""
