"""The aiogram 3 Telegram bot (the "bot" Serve application). It reaches the models only through a
DeploymentHandle to the "styles" application and never imports torch."""
