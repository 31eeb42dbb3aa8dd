import { Column, DeleteDateColumn, Entity, ManyToOne, OneToMany, PrimaryGeneratedColumn } from "typeorm";
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

/** A file column a plain load leaves out (`select: false`), as TypeORM loads `databaseEntity`. */
@Entity()
export class Dossier {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ default: "" }) title!: string;
  @FileColumn({ uploadTo: "dossiers/", select: false }) scan!: FieldFile;
}

/** Pages a folder lets go of are deleted (`orphanedRowAction: "delete"`), rows TypeORM never loads. */
@Entity()
export class Folder {
  @PrimaryGeneratedColumn() id!: number;
  @OneToMany(
    () => Page,
    (page) => page.folder,
    { cascade: true },
  )
  pages!: Page[];
}

@Entity()
export class Page {
  @PrimaryGeneratedColumn() id!: number;
  @ManyToOne(
    () => Folder,
    (folder) => folder.pages,
    { orphanedRowAction: "delete" },
  )
  folder!: Folder;
  @FileColumn({ uploadTo: "pages/" }) scan!: FieldFile;
}

/** One file field and a plain column, for tests of concurrent requests and of cleanup lookups. */
@Entity()
export class Sheet {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ default: "" }) title!: string;
  @FileColumn({ uploadTo: "sheets/" }) file!: FieldFile;
}

/** A soft-deletable row: `softRemove` keeps it, and its file, for `recover`. */
@Entity()
export class Memo {
  @PrimaryGeneratedColumn() id!: number;
  @PrivateFileColumn({ uploadTo: "memos/" }) note!: FieldFile;
  @DeleteDateColumn() deletedAt!: Date | null;
}
