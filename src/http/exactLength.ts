import { Transform } from "node:stream";

/**
 * Returns a pass-through stream that fails when more or fewer than `length` bytes go through it. Once a
 * `Content-Length` is sent, a body of another length must not end normally: a file truncated while it
 * is sent would leave a keep-alive client (or a proxy's pooled connection) waiting for the missing bytes,
 * or reading the next response as their rest; bytes appended to it would be read as the next response.
 * In a `pipeline` the error destroys the response, which closes the connection mid-body instead.
 */
export function exactLength(length: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      if (seen > length) return callback(new Error(`The file grew past the ${length} bytes announced.`));
      callback(null, chunk);
    },
    flush(callback) {
      if (seen < length) return callback(new Error(`The file ended after ${seen} bytes; ${length} were announced.`));
      callback();
    },
  });
}
