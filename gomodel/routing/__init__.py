"""Which provider serves a model: the merged catalog and its refresh loop."""
