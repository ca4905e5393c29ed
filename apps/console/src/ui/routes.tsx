import type { JSX } from "preact";
import { useEffect } from "preact/hooks";
import { EmptyState } from "./components";
import { DatasetPage } from "./pages/dataset";
import { DatasetsPage } from "./pages/datasets";
import { GroupPage } from "./pages/group";
import { GroupsPage } from "./pages/groups";
import { LineagePage } from "./pages/lineage";
import { ModelPage } from "./pages/model";
import { ModelsPage } from "./pages/models";
import { ProjectHome } from "./pages/project-home";
import { ProjectsPage } from "./pages/projects";
import { ViewPage } from "./pages/view";
import { ViewsPage } from "./pages/views";
import { Link, navigate, type Location } from "./router";

function version(s: string | undefined): number | undefined {
  return s !== undefined && /^\d{1,9}$/.test(s) ? Number(s) : undefined;
}

/** The URL scheme (docs/console.md lists it). */
export function Routes({ location }: { location: Location }): JSX.Element {
  const [root, project, section, a, b, c, d] = location.segments;
  useEffect(() => {
    if (root === undefined) navigate("/projects", true);
  }, [root]);
  if ((root === undefined || root === "projects") && project === undefined) return <ProjectsPage />;
  if (root === "projects" && project !== undefined) {
    const p = project;
    if (section === undefined) return <ProjectHome project={p} query={location.query.get("q") ?? ""} />;
    if (section === "groups" && a === undefined) return <GroupsPage project={p} />;
    if (section === "groups" && a !== undefined && version(b) !== undefined) return <GroupPage project={p} name={a} version={version(b)!} />;
    if (section === "views" && a === undefined) return <ViewsPage project={p} />;
    if (section === "views" && a !== undefined && version(b) !== undefined) return <ViewPage project={p} name={a} version={version(b)!} />;
    if (section === "datasets" && a === undefined) return <DatasetsPage project={p} />;
    if (section === "datasets" && a !== undefined && version(b) !== undefined && version(c) !== undefined)
      return <DatasetPage project={p} view={a} viewVersion={version(b)!} version={version(c)!} />;
    if (section === "models" && a === undefined) return <ModelsPage project={p} />;
    if (section === "models" && a !== undefined && b === undefined)
      return <ModelPage project={p} name={a} selected={version(location.query.get("version") ?? undefined)} />;
    if (section === "lineage" && a === undefined) return <LineagePage project={p} />;
    if (section === "lineage" && a !== undefined && b !== undefined && version(c) !== undefined)
      return <LineagePage project={p} focus={{ kind: a, name: b, version: version(c)!, datasetVersion: version(d) ?? 0 }} />;
  }
  return (
    <EmptyState>
      <p>There is no page at {location.path}.</p>
      <Link href="/projects">Go to the projects</Link>
    </EmptyState>
  );
}
