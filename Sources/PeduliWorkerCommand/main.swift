print("peduli-worker: not built yet")
