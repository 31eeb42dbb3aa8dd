import { InMemoryStorage } from "../../src/storage/InMemoryStorage";
import { describeStorageContract } from "./storageContract";

describeStorageContract("memory", () => new InMemoryStorage());
