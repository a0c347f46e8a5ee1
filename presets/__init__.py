"""Bundled preset scenarios: one TOML file per lesson (read by ``engine.presets``)."""
