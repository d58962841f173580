// Runs one of the project's commands as a child process, as a person would from its folder.
import { spawn } from "node:child_process";
import path from "node:path";

export type TCommandResult = { code: number | null; stdout: string; stderr: string };

/** node_modules/.bin: Node 24 (the `node` package) and the project's tools. */
export const PROJECT_BIN = path.resolve("node_modules/.bin");

/**
 * `command args` in the project's folder with PROJECT_BIN first on PATH (as npm scripts have it),
 * HOME, and `env`: nothing else of the test process's environment. Resolves with the exit code
 * and everything written to stdout and stderr.
 */
export function runProjectCommand(
  command: string,
  args: readonly string[],
  env: { NODE_ENV: "development" | "production" } & Record<string, string>,
): Promise<TCommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...args], {
      cwd: path.resolve("."),
      env: { PATH: `${PROJECT_BIN}${path.delimiter}${process.env.PATH ?? ""}`, HOME: process.env.HOME ?? "/tmp", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}
