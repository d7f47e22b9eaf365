"""Real servers that stand in for outside services in tests (never mocks of the SDKs)."""
