"""Wire-neutral types shared by every layer. Imports nothing else from gomodel."""
