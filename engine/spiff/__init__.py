"""The fence around SpiffWorkflow: only this package, the importer and the runtime import it."""
