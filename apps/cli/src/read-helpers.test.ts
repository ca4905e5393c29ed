import { afterAll, describe, expect, it } from "@jest/globals";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { CliError, UsageError } from "./cli-error.js";
import { projectNameOf } from "./commands/init.js";
import { confirmByName } from "./confirm.js";
import { configFileCandidates, loadConfigFile } from "./config-file.js";
import { withConfigFile, type GlobalOptions } from "./context.js";
import { sparkline } from "./statistics-text.js";

describe("sparkline", () => {
  it("draws the largest count as █, any non-zero count as at least ▁, and zero as a space", () => {
    expect(sparkline([174, 124, 59, 18, 4, 0, 1])).toBe("█▆▃▁▁ ▁");
    expect(sparkline([1, 2, 3, 4, 5, 6, 7, 8])).toBe("▁▂▃▄▅▆▇█");
    expect(sparkline([0, 0])).toBe("  ");
    expect(sparkline([])).toBe("");
  });
});

describe("init's project name", () => {
  it("is the directory's name made an identifier", () => {
    expect(projectNameOf("/home/ana/My Shop-2")).toBe("my_shop_2");
    expect(projectNameOf("/tmp/42things")).toBe("things");
    expect(projectNameOf("/tmp/---")).toBe("starter");
  });
});

describe("the config file", () => {
  const dir = mkdtempSync(join(tmpdir(), "granary-config-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("is GRANARY_CONFIG, else ./granary.yaml, else config.yaml under XDG_CONFIG_HOME or ~/.config", () => {
    expect(configFileCandidates({ GRANARY_CONFIG: "c.yaml" }, "/w")).toEqual(["/w/c.yaml"]);
    expect(configFileCandidates({ XDG_CONFIG_HOME: "/x", HOME: "/h" }, "/w")).toEqual(["/w/granary.yaml", "/x/granary/config.yaml"]);
    expect(configFileCandidates({ HOME: "/h" }, "/w")).toEqual(["/w/granary.yaml", "/h/.config/granary/config.yaml"]);
  });

  it("resolves file paths against its own directory, and names a bad setting", () => {
    const xdg = join(dir, "xdg");
    mkdirSync(join(xdg, "granary"), { recursive: true });
    writeFileSync(join(xdg, "granary", "config.yaml"), "address: suite.local\nproject: fraud\nca_file: ca.pem\napi_key_file: ~/k.txt\ntimeout: 5000\n");
    expect(loadConfigFile({ XDG_CONFIG_HOME: xdg, HOME: "/home/ana" }, dir)).toEqual({
      apiKeyFile: "/home/ana/k.txt",
      path: join(xdg, "granary", "config.yaml"),
      address: "suite.local",
      project: "fraud",
      caFile: join(xdg, "granary", "ca.pem"),
      timeout: 5000,
    });
    writeFileSync(join(dir, "granary.yaml"), "timeout: soon\n");
    expect(() => loadConfigFile({ XDG_CONFIG_HOME: xdg }, dir)).toThrow(
      new UsageError(`${join(dir, "granary.yaml")}: timeout must be a positive number of milliseconds`),
    );
    writeFileSync(join(dir, "granary.yaml"), "feature_groups: []\n");
    expect(() => loadConfigFile({}, dir)).toThrow(/is a feature manifest, not a config file/);
    expect(() => loadConfigFile({ GRANARY_CONFIG: "missing.yaml" }, dir)).toThrow(/GRANARY_CONFIG names .*missing\.yaml, which does not exist/);
  });

  it("fills only what neither a flag nor the environment set: flags > environment > file > defaults", () => {
    const base: GlobalOptions = { project: "default", progress: true };
    const file = {
      path: "/c.yaml",
      address: "suite.local",
      online: "online.local:7000",
      project: "fraud",
      apiKey: "grn_file",
      caFile: "/ca.pem",
      timeout: 5000,
    };
    expect(withConfigFile(base, file, true, {})).toEqual({
      project: "fraud",
      progress: true,
      metadata: "suite.local:50051",
      online: "online.local:7000",
      offline: "suite.local:50053",
      registry: "suite.local:50054",
      apiKey: "grn_file",
      caFile: "/ca.pem",
      timeout: 5000,
    });
    // From the environment: the SDK reads it; the file must not override it.
    const env = { GRANARY_HOST: "other", GRANARY_API_KEY_FILE: "k", GRANARY_TLS_CA: "/env-ca.pem" };
    expect(withConfigFile(base, file, true, env)).toEqual({ project: "fraud", progress: true, timeout: 5000 });
    // Flags, and a project given by flag or GRANARY_PROJECT (not the default), win.
    expect(withConfigFile({ ...base, project: "mine", timeout: 100, apiKey: "grn_flag" }, file, false, {})).toMatchObject({
      project: "mine",
      timeout: 100,
      apiKey: "grn_flag",
    });
  });
});

describe("confirmByName", () => {
  const tty = (answer: string | undefined) => {
    const input = Object.assign(new PassThrough(), { isTTY: true });
    const prompts: string[] = [];
    setImmediate(() => (answer === undefined ? input.end() : input.write(`${answer}\n`)));
    return { io: { input, prompt: (t: string) => void prompts.push(t) }, prompts };
  };

  it("goes on once the name is typed, and prompts saying what will happen", async () => {
    const { io, prompts } = tty("customers");
    await expect(confirmByName("delete feature group customers v1", "customers", { io })).resolves.toBeUndefined();
    expect(prompts.join("")).toBe("This will delete feature group customers v1; it cannot be undone.\nType customers to confirm: ");
  });

  it("stops on anything else, on end of input, and without a terminal unless --yes", async () => {
    await expect(confirmByName("delete x", "customers", { io: tty("custom").io })).rejects.toThrow(
      new CliError('"custom" is not customers: nothing was deleted'),
    );
    await expect(confirmByName("delete x", "customers", { io: tty(undefined).io })).rejects.toThrow(new CliError("not confirmed: nothing was deleted"));
    const pipe = { input: new PassThrough(), prompt: () => {} };
    await expect(confirmByName("delete x", "customers", { io: pipe })).rejects.toThrow(
      new UsageError("refusing to delete x without confirmation: stdin is not a terminal; add --yes to confirm"),
    );
    await expect(confirmByName("delete x", "customers", { io: pipe, yes: true })).resolves.toBeUndefined();
  });
});
