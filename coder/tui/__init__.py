"""The Textual TUI: `coder` or `coder tui` in a repository opens a live agent session (app.py: CoderApp)."""
