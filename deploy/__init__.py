"""Deployment: the no-container launcher, the demo school loader, container recipes."""
