/** A rejected upload: the HTTP status to answer with and a message for the person uploading. */
export class UploadError extends Error {
  override name = "UploadError";

  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}
