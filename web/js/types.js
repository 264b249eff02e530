// The registry of notification types, read from the server (`GET /notifications/types`): the
// only list of types the page has, with the label and description it shows for each. A type
// it does not know (added while the page was open) makes it read the registry again, once.

export class TypeRegistry extends EventTarget {
  /** `read()`: the registry from the server (the client's `types()`). */
  constructor(read) {
    super();
    this.read = read;
    this.types = new Map(); // name -> {name, label, description}, in the server's order
    this.loading = null;
    this.missing = new Set(); // names still unknown after a fresh read: not asked for again
  }

  /** Read the registry; concurrent calls share one request. Emits `change` when it arrives. */
  load() {
    if (!this.loading) {
      this.loading = this.read()
        .then((types) => {
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

  /** A short heading for the type (its name until the registry says otherwise). */
  label(name) {
    const type = this.types.get(name);
    return type ? type.label : String(name);
  }

  description(name) {
    const type = this.types.get(name);
    return type ? type.description : '';
  }

  list() {
    return [...this.types.values()];
  }
}
