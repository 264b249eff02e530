// The content-request routes (ask, list, answer, try again), called through the package's
// NotificationClient (`request`), so credentials and errors (ApiError) are handled once.

const enc = encodeURIComponent;

/** `call(method, path, body)`: the client's `request`. */
export function contentRequests(call) {
  return {
    create: (question) => call('POST', '/content-requests', { question }),
    list: (cursor) => call('GET', `/content-requests?limit=20${cursor ? `&cursor=${enc(cursor)}` : ''}`),
    get: (id) => call('GET', `/content-requests/${enc(id)}`),
    answer: (id, answer) => call('POST', `/content-requests/${enc(id)}/clarification`, { answer }),
    retry: (id) => call('POST', `/content-requests/${enc(id)}/retry`),
  };
}
