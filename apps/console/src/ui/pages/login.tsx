import type { JSX } from "preact";
import { useState } from "preact/hooks";

export function LoginPage({ message, onKey }: { message?: string; onKey: (key: string) => Promise<string | undefined> }): JSX.Element {
  const [key, setKey] = useState("");
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const submit = (e: Event): void => {
    e.preventDefault();
    const k = key.trim();
    if (k === "") {
      setProblem("Paste an API key first.");
      return;
    }
    setBusy(true);
    onKey(k).then(
      (p) => {
        setBusy(false);
        setProblem(p);
      },
      (err: unknown) => {
        setBusy(false);
        setProblem(String(err));
      },
    );
  };
  return (
    <div class="login-page">
      <form class="login card" data-testid="login-form" onSubmit={submit}>
        <h1>Granary console</h1>
        <p>Sign in with a Granary API key.</p>
        {message && (
          <p class="notice" role="status">
            {message}
          </p>
        )}
        <label for="login-key">API key</label>
        <input
          id="login-key"
          data-testid="login-key"
          type="password"
          autocomplete="off"
          spellcheck={false}
          placeholder="grn_…"
          value={key}
          onInput={(e) => setKey(e.currentTarget.value)}
        />
        {problem && (
          <p class="error" data-testid="error-message" role="alert">
            {problem}
          </p>
        )}
        <button type="submit" data-testid="login-submit" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
        <p class="hint">
          Running Granary with <code>npm start</code>? It prints where the admin key is: by default <code>.granary/admin.key</code> in the repository (or{" "}
          <code>$GRANARY_DATA_DIR/admin.key</code>). The key is kept in this tab's session storage only and forgotten when you close the tab or sign out.
        </p>
      </form>
    </div>
  );
}
