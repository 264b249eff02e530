// The notification types the front end knows by name: the only place a type's name is written
// in the page, <notification-center>, desktop notifications and the push service worker. For
// each known type, how it reads (which payload key is its text), its icon, its tone (a class
// for colour) and what clicking it offers (a button's wording); any other type, one added on the
// server since this was written included, gets the defaults: its label, the payload's text, '•',
// and a click that offers its video or its content request. Where a click leads is not decided
// here: every notification carries it as `link` (the server's rule, service/live/subjects.py).
//
// Labels and descriptions are the server's (`GET /notifications/types`), read by a
// `TypeRegistry`; this module adds only how the front end shows them.
//
// No imports, and only `export function|const|class` at the top level: /sw.js serves this file
// made into a classic script ahead of push-worker.js (service/push/worker_script.py), since a worker
// that other origins `importScripts` cannot load a module.

/**
 * The payload keys that hold a notification's text, in the order a type without its own is
 * read: the server's order too (service/notification_text.py, which a test holds to this one).
 */
export const TEXT_KEYS = Object.freeze(['title', 'error_message', 'question']);

/**
 * The payload keys of the copy a notification was made with (an A/B test's variant, or its
 * type's default copy: the server renders it into the payload when it creates the
 * notification). When filled they are its heading and body, before anything else; the server's
 * rule reads them first too (service/notifications/text.py).
 */
export const COPY_KEYS = Object.freeze({ heading: 'copy_heading', body: 'copy_body' });

// `text`: the payload key of the body; `empty`: the body when that key is empty; `heading`:
// a heading from the payload (else the label); `click`: 'watch' (its video, offered as "Watch
// now"), 'answer' (its request, where the question is answered), 'request' (its request), or
// 'open' (the default: its video if it has one, else its request).
const KNOWN = {
  video_complete: { icon: '▶', tone: 'complete', click: 'watch', text: 'title', empty: 'Untitled video' },
  video_failed: {
    icon: '!',
    tone: 'failed',
    click: 'request',
    text: 'error_message',
    empty: 'Something went wrong.',
    heading: (payload) => (payload.title ? `We couldn't make “${payload.title}”` : null),
  },
  clarification_needed: {
    icon: '?',
    tone: 'clarify',
    click: 'answer',
    text: 'question',
    empty: 'Please tell us more about your question.',
  },
};
const DEFAULT = { icon: '•', tone: 'info', click: 'open', text: null, empty: null, heading: null };

/** How the front end shows type `name`: {icon, tone, click, text, empty, heading}. */
export function kindOf(name) {
  return { ...DEFAULT, ...(Object.hasOwn(KNOWN, name) ? KNOWN[name] : {}) };
}

const filled = (value) => typeof value === 'string' && value.trim() !== '';

/** The label of type `name` in `registry` (a TypeRegistry, a Map, or none): else its name in words. */
export function labelOf(name, registry) {
  const type = registry && registry.get(name);
  return type && filled(type.label) ? type.label : String(name).replace(/_/g, ' ');
}

/** The payload key that holds the text of a notification of this type (its own, or the first filled). */
export function bodyKey(notification) {
  const payload = (notification && notification.payload) || {};
  const own = kindOf(notification && notification.type).text;
  return own || TEXT_KEYS.find((key) => filled(payload[key])) || null;
}

/**
 * `{heading, body}` of a notification: its copy's (COPY_KEYS) when filled; else the heading is
 * its type's label (some types make it from the payload), the body the payload's text, else the
 * type's placeholder or description.
 */
export function describe(notification, registry) {
  const payload = notification.payload || {};
  const kind = kindOf(notification.type);
  const key = bodyKey(notification);
  const text = key && filled(payload[key]) ? String(payload[key]) : '';
  const type = registry && registry.get(notification.type);
  const copy = (name) => (filled(payload[COPY_KEYS[name]]) ? payload[COPY_KEYS[name]].trim() : '');
  return {
    heading: copy('heading') || (kind.heading && kind.heading(payload)) || labelOf(notification.type, registry),
    body: copy('body') || text || kind.empty || (type && type.description) || '',
  };
}

/**
 * What clicking a notification offers: 'watch' (its `payload.video_url`), 'answer' or
 * 'request' (its content request, `payload.content_id`), or null (nothing to open). For the
 * wording only: where it leads is the notification's `link`.
 */
export function clickAction(notification) {
  const payload = notification.payload || {};
  const { click } = kindOf(notification.type);
  const video = filled(payload.video_url);
  const request = payload.content_id !== undefined && payload.content_id !== null && payload.content_id !== '';
  if ((click === 'watch' || click === 'open') && video) return 'watch';
  if (!request) return null;
  return click === 'answer' ? 'answer' : 'request';
}

/** The tag of a notification's system notification, the same for desktop and push: a repeat replaces it. */
export function notificationTag(id) {
  return `vividly-${id}`;
}

/**
 * The server's type registry (`read()`: the client's `types()`), in its order: labels and
 * descriptions. A type it does not know (added while the page was open) makes it read the
 * registry again, once. Emits `change` when a read arrives.
 */
export class TypeRegistry extends EventTarget {
  constructor(read) {
    super();
    this.read = read;
    this.types = new Map(); // name -> {name, label, description}
    this.loading = null;
    this.missing = new Set(); // names still unknown after a fresh read: not asked for again
  }

  /** Read the registry; concurrent calls share one request. */
  load() {
    if (!this.loading) {
      this.loading = this.read()
        .then((types) => {
          if (!Array.isArray(types)) throw new TypeError('the type registry is not a list');
          this.types = new Map(types.map((type) => [type.name, type]));
          this.dispatchEvent(new Event('change'));
        })
        .finally(() => {
          this.loading = null;
        });
    }
    return this.loading;
  }

  /** Resolves once `name` is known, or known to be missing; never rejects. */
  async ensure(name) {
    if (this.types.has(name) || this.missing.has(name)) return;
    try {
      await this.load();
    } catch {
      return; // the views show the name meanwhile; the next unknown item asks again
    }
    if (!this.types.has(name)) this.missing.add(name);
  }

  has(name) {
    return this.types.has(name);
  }

  get(name) {
    return this.types.get(name);
  }

  label(name) {
    return labelOf(name, this);
  }

  description(name) {
    const type = this.types.get(name);
    return type ? type.description : '';
  }

  list() {
    return [...this.types.values()];
  }
}
