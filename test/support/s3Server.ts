// One copy of the shimmed s3rver launcher: the example app starts it at run time (EMBEDDED_S3=1).
export { type S3rverHandle, startS3rver } from "../../example-app/src/embeddedS3";
