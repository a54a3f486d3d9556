"""One module per area; each handler parses, makes one service call and returns a schema."""
