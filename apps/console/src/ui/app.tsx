import { Code, ConnectError } from "@connectrpc/connect";
import type { JSX } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api, forgetKey, setUnauthenticatedHandler, storedKey, storeKey } from "./api";
import { Loading } from "./components";
import { LoginPage } from "./pages/login";
import { Routes } from "./routes";
import { href, Link, useLocation } from "./router";

type Session = { readonly state: "checking" } | { readonly state: "login"; readonly message?: string } | { readonly state: "ready"; readonly authOff: boolean };

const LAST_PROJECT = "granary.lastProject";

export function App(): JSX.Element {
  const [session, setSession] = useState<Session>({ state: "checking" });

  useEffect(() => {
    setUnauthenticatedHandler((message) => {
      forgetKey();
      setSession({ state: "login", message: `Your session ended: ${message || "the API key was not accepted"}. Sign in again.` });
    });
    if (storedKey() !== undefined) {
      setSession({ state: "ready", authOff: false });
      return;
    }
    // A dev suite may run with GRANARY_AUTH=off: a call without a key that succeeds means no login.
    api.metadata.listProjects({ pageSize: 1 }).then(
      () => setSession({ state: "ready", authOff: true }),
      (err: unknown) => {
        const e = ConnectError.from(err);
        setSession(e.code === Code.Unauthenticated ? { state: "login" } : { state: "login", message: `Could not reach Granary: ${e.rawMessage}` });
      },
    );
  }, []);

  if (session.state === "checking") return <Loading what="the console" />;
  if (session.state === "login") {
    return (
      <LoginPage
        message={session.message}
        onKey={async (key) => {
          storeKey(key);
          try {
            await api.metadata.listProjects({ pageSize: 1 });
          } catch (err) {
            const e = ConnectError.from(err);
            if (e.code === Code.Unauthenticated || e.code === Code.InvalidArgument) {
              forgetKey();
              return `That key was not accepted (${e.rawMessage}). Check you copied the whole key, grn_<id>_<secret>.`;
            }
            if (e.code !== Code.PermissionDenied) {
              forgetKey();
              return `Could not reach Granary: ${e.rawMessage}`;
            }
          }
          setSession({ state: "ready", authOff: false });
          return undefined;
        }}
      />
    );
  }
  return (
    <Shell
      authOff={session.authOff}
      onSignOut={() => {
        forgetKey();
        setSession({ state: "login", message: "Signed out." });
      }}
    />
  );
}

function Shell({ authOff, onSignOut }: { authOff: boolean; onSignOut: () => void }): JSX.Element {
  const location = useLocation();
  const routeProject = location.segments[0] === "projects" ? location.segments[1] : undefined;
  useEffect(() => {
    if (routeProject !== undefined) sessionStorage.setItem(LAST_PROJECT, routeProject);
  }, [routeProject]);
  const project = routeProject ?? sessionStorage.getItem(LAST_PROJECT) ?? undefined;
  const section = location.segments[2] ?? (routeProject !== undefined ? "home" : location.segments[0] === "projects" ? "projects" : "");
  const to = (s: string): string => (project !== undefined ? href("projects", project, s) : "/projects");
  const item = (id: string, label: string, target: string, active: boolean): JSX.Element => (
    <Link href={target} data-testid={`nav-${id}`} class={active ? "active" : undefined} aria-current={active ? "page" : undefined}>
      {label}
    </Link>
  );
  return (
    <div class="shell">
      <header class="topbar">
        <Link href="/projects" class="brand">
          Granary
        </Link>
        <nav data-testid="nav" aria-label="Main">
          {item("projects", "Projects", "/projects", section === "projects" || section === "home")}
          {item("groups", "Feature groups", to("groups"), section === "groups")}
          {item("views", "Feature views", to("views"), section === "views")}
          {item("datasets", "Training data", to("datasets"), section === "datasets")}
          {item("models", "Models", to("models"), section === "models")}
          {item("lineage", "Lineage", to("lineage"), section === "lineage")}
        </nav>
        <div class="session">
          {project !== undefined && (
            <span class="current-project" title="Current project">
              {project}
            </span>
          )}
          {authOff ? (
            <span class="muted" title="The suite runs with GRANARY_AUTH=off">
              auth off
            </span>
          ) : (
            <button type="button" class="link-button" data-testid="sign-out" onClick={onSignOut}>
              Sign out
            </button>
          )}
        </div>
      </header>
      <main class="content">
        <Routes location={location} />
      </main>
    </div>
  );
}
