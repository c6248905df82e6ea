"""Who is signed in: server-side web sessions and per-user API tokens, both stored hashed."""
