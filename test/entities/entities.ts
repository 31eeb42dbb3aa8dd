import { Column, Entity, PrimaryGeneratedColumn } from "typeorm";
import { type FieldFile, FileColumn, PrivateFileColumn } from "../../src";

@Entity()
export class Document {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ default: "" }) title!: string;
  @Column({ default: 0 }) ownerId!: number;
  @FileColumn({ uploadTo: "documents/%Y/%m/" }) attachment!: FieldFile;
  @PrivateFileColumn({ uploadTo: (doc: Document, filename) => `users/${doc.ownerId}/${filename}` })
  contract!: FieldFile;
}

@Entity()
export class Avatar {
  @PrimaryGeneratedColumn() id!: number;
  @FileColumn({ nullable: false, keepFiles: true, maxLength: 40 }) image!: FieldFile;
  @FileColumn({ allowUnsafeInline: true }) trustedSvg!: FieldFile;
}

/** Two file fields on one storage: a key may move from one to the other. */
@Entity()
export class Article {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ default: "" }) title!: string;
  @FileColumn({ uploadTo: "drafts/" }) draft!: FieldFile;
  @FileColumn({ uploadTo: "published/" }) published!: FieldFile;
}
