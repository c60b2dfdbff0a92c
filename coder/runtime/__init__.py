"""The bundled local runtime: model registry and fetching, GGUF metadata, and the llama.cpp server process."""
