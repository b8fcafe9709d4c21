/*
 * Cross-origin isolation for static hosts that cannot send headers (GitHub Pages, say).
 *
 * The page registers this worker (index.html) only when it is not already cross-origin isolated.
 * From then on every same-origin response is given the three headers that `vite` and `vite preview`
 * send themselves (vite.config.ts), so after one reload `crossOriginIsolated` is true and the
 * training worker's tfjs-wasm can use its threaded build. Responses from other origins are passed
 * through untouched (the app requests none). Where service workers are unavailable (a private
 * window, plain http on a non-local host) nothing happens and the app runs wasm on one thread.
 */
const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

function withIsolation(response) {
  // Opaque and error responses cannot be rewritten; 1xx/204/304 have no body to copy.
  if (response.type === 'opaque' || response.type === 'opaqueredirect' || response.status === 0) return response;
  const headers = new Headers(response.headers);
  for (const [name, value] of Object.entries(ISOLATION_HEADERS)) headers.set(name, value);
  const noBody = response.status === 204 || response.status === 304;
  return new Response(noBody ? null : response.body, {
    status: response.status,
    statusText: response.statusText,
    headers,
  });
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (new URL(request.url).origin !== self.location.origin) return;
  // A cache-only request from another context would fail in fetch(); leave it to the browser.
  if (request.cache === 'only-if-cached' && request.mode !== 'same-origin') return;
  event.respondWith(fetch(request).then(withIsolation));
});
