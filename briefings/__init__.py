"""The briefing core: visits, languages, digests. Imports no chat platform library."""
