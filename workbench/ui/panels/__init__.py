"""The dockable panels of the main window; each takes (state, runner) and talks only to AppState."""
