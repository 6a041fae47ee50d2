"""The request middleware (`front`) and the steps it runs, one module each."""
