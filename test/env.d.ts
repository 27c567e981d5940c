// Vite's import.meta.glob and `?raw` imports, used to bundle the recorded fixtures into tests.
/// <reference types="vite/client" />
