/// <reference types="vite/client" />
// Vite's client types: `?url` imports (the tfjs-wasm binaries), `import.meta.env`.
