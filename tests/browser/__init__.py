"""Browser tests (Playwright + Debian Chromium) and their harness."""
