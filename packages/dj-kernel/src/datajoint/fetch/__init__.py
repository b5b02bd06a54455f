"""Reading query results: the fetch API and the fetch-format plugins."""
