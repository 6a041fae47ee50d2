"""What every request passes before its handler: request id, master-key auth, error rendering
(`guard`), one module per step."""
