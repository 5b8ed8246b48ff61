"""Sub-commands of the `voicecart` CLI, one module per command group."""
