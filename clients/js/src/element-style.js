// The styles of <notification-center>, inside its shadow root. Pages theme it with the custom
// properties below (set them on the element) and ::part(bell | badge | panel).
export const STYLES = `
:host {
  --nc-accent: #2563eb;
  --nc-badge: #dc2626;
  --nc-bg: #fff;
  --nc-fg: #111827;
  --nc-muted: #6b7280;
  --nc-border: #e5e7eb;
  --nc-unread: #eff6ff;
  display: inline-block;
  position: relative;
  font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--nc-fg);
}
[hidden] { display: none !important; }
button { font: inherit; color: inherit; cursor: pointer; }
button:focus-visible { outline: 2px solid var(--nc-accent); outline-offset: 2px; }
.bell {
  position: relative; display: grid; place-items: center;
  width: 40px; height: 40px; padding: 0; border: 0; border-radius: 50%; background: transparent;
}
.bell:hover { background: rgba(0, 0, 0, 0.06); }
.bell svg { width: 24px; height: 24px; }
.badge {
  position: absolute; top: 2px; right: 0; min-width: 18px; height: 18px; padding: 0 5px;
  box-sizing: border-box; border-radius: 9px; background: var(--nc-badge); color: #fff;
  font-size: 11px; font-weight: 600; line-height: 18px; text-align: center;
}
.panel {
  position: fixed; z-index: 2147483000; box-sizing: border-box;
  display: flex; flex-direction: column; overflow: hidden;
  background: var(--nc-bg); border: 1px solid var(--nc-border); border-radius: 10px;
  box-shadow: 0 12px 32px rgba(0, 0, 0, 0.18);
}
.head { display: flex; align-items: center; gap: 8px; padding: 10px 12px 6px; }
.head h2 { margin: 0; font-size: 16px; flex: 1 1 auto; min-width: 0; }
.status { font-size: 12px; color: var(--nc-muted); display: inline-flex; align-items: center; gap: 4px; }
.status::before { content: ""; width: 8px; height: 8px; border-radius: 50%; background: #9ca3af; }
.status[data-state="connected"]::before { background: #16a34a; }
.status[data-state="too_many_places"]::before,
.status[data-state="unavailable"]::before,
.status[data-state="auth_expired"]::before { background: #d97706; }
.close, .icon {
  flex: none; width: 32px; height: 32px; padding: 0; border: 0; border-radius: 6px;
  background: transparent; color: var(--nc-muted); font-size: 18px; line-height: 1;
}
.close:hover, .icon:hover { background: rgba(0, 0, 0, 0.06); color: var(--nc-fg); }
.actions { display: flex; flex-wrap: wrap; gap: 6px; padding: 0 12px 8px; border-bottom: 1px solid var(--nc-border); }
.actions button, .more {
  border: 1px solid var(--nc-border); border-radius: 6px; background: transparent; padding: 4px 10px;
}
.actions button:disabled { opacity: 0.5; cursor: default; }
.error { margin: 8px 12px 0; color: #b91c1c; font-size: 13px; overflow-wrap: anywhere; }
.list { list-style: none; margin: 0; padding: 0; overflow-y: auto; overflow-x: hidden; flex: 1 1 auto; }
.item { display: flex; align-items: flex-start; gap: 4px; padding: 8px 8px 8px 12px; border-bottom: 1px solid var(--nc-border); }
.item.unread { background: var(--nc-unread); }
.main {
  flex: 1 1 auto; min-width: 0; display: flex; flex-direction: column; gap: 2px;
  border: 0; background: transparent; padding: 0; text-align: left;
}
.title { font-weight: 600; overflow-wrap: anywhere; }
.item.unread .title::before {
  content: ""; display: inline-block; width: 8px; height: 8px; margin-right: 6px;
  border-radius: 50%; background: var(--nc-accent); vertical-align: middle;
}
.body { color: var(--nc-fg); overflow-wrap: anywhere; }
.time { color: var(--nc-muted); font-size: 12px; }
.item-actions { flex: none; display: flex; }
.empty { margin: 0; padding: 24px 12px; text-align: center; color: var(--nc-muted); }
.more { margin: 8px 12px 10px; align-self: center; }
`;
