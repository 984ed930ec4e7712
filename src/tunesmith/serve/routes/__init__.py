"""The server's routes, one module per protocol: our own (v1), the Open Inference Protocol (v2),
OpenAI-compatible, WebSocket, and admin."""
