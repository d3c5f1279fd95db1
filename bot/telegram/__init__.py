"""The Telegram adapter, on python-telegram-bot: updates in, core replies out, nothing more."""
