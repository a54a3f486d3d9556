"""Pure solver core: plain data in, plans out (no database, web, clock or global RNG)."""
