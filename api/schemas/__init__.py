"""Wire schemas of the API (pydantic), one module per area; never ORM or solver classes."""
