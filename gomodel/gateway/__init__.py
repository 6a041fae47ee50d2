"""The use case: resolve, dispatch, observe, record. Knows no HTTP framework."""
