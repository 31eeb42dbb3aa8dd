import "reflect-metadata";

export { fromPath } from "./content/fromPath";
export type {
  CloudFrontUrlSigner,
  ResolvedS3Options,
  S3AddressingStyle,
  S3NameSetting,
  S3ObjectParameters,
  S3StorageOptions,
  S3TransferConfig,
} from "./drivers/s3/S3StorageOptions";
export { EmptyFileFieldError } from "./errors/EmptyFileFieldError";
export { FileNotFoundError } from "./errors/FileNotFoundError";
export { FileStorageError, type FileStorageErrorCode, isFileStorageError } from "./errors/FileStorageError";
export { FileValidationError, type FileValidationRule } from "./errors/FileValidationError";
export { InvalidKeyError } from "./errors/InvalidKeyError";
export { StorageConfigError } from "./errors/StorageConfigError";
export { type StorageOperation, StorageOperationError } from "./errors/StorageOperationError";
export {
  FieldFile,
  type FieldFileAttachOptions,
  type FieldFileDeleteOptions,
  type FieldFileMultipartOptions,
  type FieldFileMultipartUpload,
  type FieldFileSaveOptions,
  type FieldFileUpload,
  type FieldFileUploadOptions,
} from "./fields/FieldFile";
export { FileColumn, type FileColumnOptions } from "./fields/FileColumn";
export type { StorageReference, UploadTo } from "./fields/FileFieldDefinition";
export { FileFieldSubscriber } from "./fields/FileFieldSubscriber";
export { PrivateFileColumn } from "./fields/PrivateFileColumn";
export {
  DEFAULT_ORPHAN_MIN_AGE,
  type MissingFile,
  type ReconcileFilesOptions,
  type ReconcileStorageReport,
  reconcileFiles,
} from "./fields/reconcileFiles";
export type { UploadTicketClaims } from "./fields/uploadTicket";
export { verifyUploadTicket } from "./fields/verifyUploadTicket";
export { type ServeFilesHandler, type ServeFilesOptions, type ServeFilesRequest, serveFiles } from "./http/serveFiles";
export { getValidName } from "./keys/getValidName";
export { validateKey } from "./keys/validateKey";
export {
  type CheckStorageOptions,
  checkStorage,
  type StorageCheck,
  type StorageCheckStatus,
} from "./storage/checkStorage";
export * from "./storage/collectStatic";
export { FileSystemStorage, type FileSystemStorageOptions } from "./storage/FileSystemStorage";
export { InMemoryStorage, type InMemoryStorageOptions } from "./storage/InMemoryStorage";
export { S3Storage } from "./storage/S3Storage";
export { DEFAULT_MANIFEST_NAME, StaticManifest, type StaticManifestOptions } from "./storage/StaticManifest";
export {
  type CreateMultipartUploadOptions,
  type CreateUploadOptions,
  DEFAULT_UPLOAD_EXPIRES_IN,
  type DirectUpload,
  type MultipartUpload,
  Storage,
  type StorageOptions,
} from "./storage/Storage";
export {
  type CleanupErrorHandler,
  type CleanupFailure,
  type CleanupReason,
  type StorageEntry,
  StorageRegistry,
  type StorageRegistryOptions,
  type StoragesConfig,
} from "./storage/StorageRegistry";
export { storages } from "./storage/storages";
export { STORAGE_ENV_VARS, type StorageEnvVar, storagesFromEnv, usesS3 } from "./storage/storagesFromEnv";
export * from "./storage/syncMetadata";
export type {
  ByteRange,
  DriverBody,
  DriverMultipartOptions,
  DriverMultipartUpload,
  DriverUploadOptions,
  DriverUploadRequest,
  DriverWriteOptions,
  DriverWriteResult,
  FileContent,
  ListResult,
  LocalFileContent,
  MulterFileLike,
  ObjectStat,
  StorageDriver,
  StorageSaveOptions,
  StoredObject,
  UploadedPart,
  UploadPart,
  UploadRequest,
  UrlOptions,
} from "./types";
