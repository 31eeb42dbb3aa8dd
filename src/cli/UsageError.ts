/** A command line the CLI cannot run: unknown command or option, missing argument, bad value (exit code 2). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}
