// The test app on a second origin: the customer's NotificationCenter.tsx, unchanged, in a header,
// with the package's hook and a client pointed at the service (`?api=<origin>&token=<jwt>`).
// The build (clients/js/build-seed.mjs) resolves the seed's own imports to our modules.
import { StrictMode, useEffect } from 'react';
import { createRoot } from 'react-dom/client';
import { NotificationClient } from '../../../clients/js/src/index.js';
import { NotificationsProvider, useNotifications } from '../../../clients/js/src/react.js';
import { NotificationCenter } from 'seed-frontend/NotificationCenter.tsx';

// What the hook holds, for the test to read and call (not part of the customer's UI).
function HookState() {
  const hook = useNotifications();
  const { status, error, loaded, hasMore, unreadCount, notifications } = hook;
  useEffect(() => {
    window.hook = hook;
  }, [hook]);
  return (
    <output
      id="hook-state"
      hidden
      data-status={status}
      data-loaded={String(loaded)}
      data-has-more={String(hasMore)}
      data-unread={unreadCount}
      data-ids={notifications.map((n) => n.id).join(',')}
      data-error={error ? error.message : ''}
    />
  );
}

function App() {
  return (
    <>
      <header className="flex items-center justify-between gap-4 border-b border-gray-200 bg-white px-4 py-3 sm:px-8">
        <span className="text-lg font-bold text-gray-900">Vividly</span>
        <nav className="flex items-center gap-4">
          <span className="hidden text-sm text-gray-600 sm:inline">My videos</span>
          <NotificationCenter />
        </nav>
      </header>
      <main className="mx-auto max-w-3xl px-4 py-8 sm:px-8">
        <h1 className="text-2xl font-semibold">Ask a question, get a video</h1>
        <p className="mt-2 text-gray-600">
          Your videos appear under the bell as soon as they are ready.
        </p>
      </main>
      <HookState />
    </>
  );
}

async function start() {
  const params = new URLSearchParams(window.location.search);
  const token = params.get('token');
  const client = new NotificationClient({ baseUrl: params.get('api'), getToken: () => token });
  const root = createRoot(document.getElementById('root'));
  try {
    await client.createSession(); // the HttpOnly cookie on the service's origin, for the stream
  } catch (error) {
    root.render(<p id="login-error">Could not sign in: {String(error.message || error)}</p>);
    return;
  }
  root.render(
    <StrictMode>
      <NotificationsProvider client={client}>
        <App />
      </NotificationsProvider>
    </StrictMode>,
  );
}

start();
