"""OSCAR chat app (Gradio): a thin adapter over kb."""
