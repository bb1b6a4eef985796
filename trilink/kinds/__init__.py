"""Data kinds the node carries: one module per kind (schema, checks, plug-in)."""
