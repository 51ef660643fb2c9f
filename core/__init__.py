"""The ground floor: machinery every other package shares (registry, config-schema builder,
atomic writes, the checksummed artifact cache, the user-error type). It imports nothing from
`partitioner`, `hwmodels`, `noise` or `sim`."""
