"""relnotes: build release notes from tagged versions."""
