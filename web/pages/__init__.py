"""HTML pages, one blueprint per module (inbox, tasks, incidents, definitions, assets)."""
