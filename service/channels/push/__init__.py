"""Web Push: subscriptions per device, and a dispatcher that pushes what a student missed."""
