"""Clinical branch: organ-specific RECIST 1.1 response, mixed response and survival."""
