"""The Datasette side of opendata: app factory, plugin hooks, templates and static assets."""
