print("peduli-bench: not built yet")
