import type * as ClientS3 from "@aws-sdk/client-s3";
import type * as CloudFrontSigner from "@aws-sdk/cloudfront-signer";
import type * as SmithyEndpoints from "@smithy/core/endpoints";
import type * as SmithyNodeHttpHandler from "@smithy/node-http-handler";

let clientS3: typeof ClientS3 | undefined;
let cloudFrontSigner: typeof CloudFrontSigner | undefined;
let endpoints: typeof SmithyEndpoints | undefined;
let nodeHttpHandler: typeof SmithyNodeHttpHandler | undefined;

/**
 * The AWS SDK packages S3 storages run on, each loaded on its first use; never throws once the
 * package's dependencies are installed (a missing one throws Node's `MODULE_NOT_FOUND`).
 *
 * The SDK costs ~120 ms and ~10 MB to load, which apps on local disk or in memory, and CLI commands
 * on them, would pay for nothing. So the other modules import only its types, and take its classes
 * and functions from here when an S3 storage is built or an S3 request is made. `require`, not
 * `import()`: building a client and `url()` are synchronous. This package is CommonJS (package.json
 * `"type"`; ES modules load the same build), so `require` is this module's own; an ES build would
 * need `createRequire(import.meta.url)`. The specifiers stay literal for bundlers to follow.
 * Nothing here is checked with `instanceof`: SDK errors are told apart by `name` and `$metadata`.
 */
export const awsSdk = {
  /** `@aws-sdk/client-s3`: `S3Client`, the commands and the SDK's enums. */
  get clientS3(): typeof ClientS3 {
    clientS3 ??= require("@aws-sdk/client-s3") as typeof ClientS3;
    return clientS3;
  },
  /** `@aws-sdk/cloudfront-signer`: `getSignedUrl` for CloudFront URLs. */
  get cloudFrontSigner(): typeof CloudFrontSigner {
    cloudFrontSigner ??= require("@aws-sdk/cloudfront-signer") as typeof CloudFrontSigner;
    return cloudFrontSigner;
  },
  /** `@smithy/core/endpoints`: `getEndpointFromInstructions`, the endpoint resolution the SDK's presigner uses. */
  get endpoints(): typeof SmithyEndpoints {
    endpoints ??= require("@smithy/core/endpoints") as typeof SmithyEndpoints;
    return endpoints;
  },
  /** `@smithy/node-http-handler`: `NodeHttpHandler`, for storages with their own agents. */
  get nodeHttpHandler(): typeof SmithyNodeHttpHandler {
    nodeHttpHandler ??= require("@smithy/node-http-handler") as typeof SmithyNodeHttpHandler;
    return nodeHttpHandler;
  },
};
